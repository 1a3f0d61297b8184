/**
 * The console's only way to the API: a typed client generated from docs/openapi.json
 * (openapi-typescript → schema.gen.ts, used by openapi-fetch). The bearer token is added here, a 401
 * ends the session, and every failure becomes an ApiError carrying the API's problem details.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.gen';
import { session } from './session';

export type { paths };
export type Problem = components['schemas']['Problem'];

type Json<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer T } } };
}
  ? T
  : never;

export type Conference = Json<'/api/v1/conferences/{id}', 'get', 200>;
export type Participant = Json<'/api/v1/conferences/{id}/participants', 'get', 200>['items'][number];
export type AddParticipantsResult = Json<'/api/v1/conferences/{id}/participants', 'post', 201>;
export type ImAccount = Json<'/api/v1/im-accounts', 'get', 200>['items'][number];
export type Profile = Json<'/api/v1/me', 'get', 200>;
export type HistoryPage = Json<'/api/v1/conferences/{id}/history', 'get', 200>;
export type ArchivedEvent = HistoryPage['events'][number];
export type LiveFeedEvent =
  paths['/api/v1/conferences/{id}/events']['get']['responses'][200]['content']['text/event-stream'];

/** A refused or failed request, with the problem details the API answered (RFC 9457). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }

  /** The message for one form field (by its JSON path, e.g. `participants.0.address`), if any. */
  fieldError(field: string): string | undefined {
    const listed = this.problem.errors?.find((e) => e.field === field);
    if (listed) return listed.message;
    return this.problem.field === field ? this.problem.detail : undefined;
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token && !request.headers.has('authorization'))
      request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('authorization')) session.expire();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

function asProblem(error: unknown, status: number): Problem {
  if (error && typeof error === 'object' && 'detail' in error) return error as Problem;
  return {
    type: 'about:blank',
    title: 'Unexpected answer',
    status,
    detail: `The server answered ${status}. Try again in a moment.`,
    instance: '',
  };
}

/** The data of a successful answer; throws ApiError with the problem otherwise. */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await request;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError({
      type: 'about:blank',
      title: 'Parley cannot be reached',
      status: 0,
      detail: 'The request did not reach Parley. Check your connection and try again.',
      instance: '',
    });
  }
  if (answer.response.ok) return answer.data as T;
  throw new ApiError(asProblem(answer.error, answer.response.status));
}
