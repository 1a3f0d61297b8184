/**
 * A server-sent events answer (the live feed, an import's progress): the handler takes the raw
 * response over from Fastify and writes the events as they come.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** Takes the answer over and sends the event-stream headers; returns the response to write to. */
export function startEventStream(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  return res;
}
