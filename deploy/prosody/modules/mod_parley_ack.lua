-- mod_parley_ack: the XMPP server keeps each message it hands to Parley's component until the
-- component says it has stored it, and hands what is not acknowledged to the component's next
-- connection.
--
-- The component protocol acknowledges nothing: a gateway killed after the server wrote a user's
-- message to its connection, before the gateway published it to JetStream, lost it without a word
-- (docs/reliability.md, "Known windows"). With this module every message to the component carries
-- `parley-seq="<boot>-<n>"` (the server process's boot id and a counter); the gateway answers, once
-- the message is stored (or needs no storing), with
--   <message from="<component>" to="<component>"><ack xmlns="urn:parley:ack" seqs="<seq> <seq> …"/></message>
-- and when a component connects, every message not acknowledged yet is sent to it again, in order,
-- with its seq (the gateway's inbound ids make a repeat harmless). Kept at most
-- `parley_ack_seconds` (default 300) and `parley_ack_size` (default 10000) messages, oldest first out.
--
-- Load it in Parley's component block only:
--   Component "conf.example.org"
--     component_secret = "..."
--     modules_enabled = { "parley_dedup"; "parley_ack" }
-- The memory is this server process's: a restart of the server loses what was not acknowledged.

local st = require "util.stanza";
local jid_host = require "util.jid".host;
local now = require "util.time".now;
local id = require "util.id";

local keep_seconds = module:get_option_number("parley_ack_seconds", 300);
local keep_size = module:get_option_number("parley_ack_size", 10000);
local xmlns_ack = "urn:parley:ack";

local boot = id.short();
local counter = 0;
-- Messages handed to the component and not acknowledged, in the order they were handed:
-- queue[first..last] = { seq = "...", at = time, stanza = clone }; `unacked[seq]` is its entry
-- while it waits. (Explicit bounds: `#` is unreliable once the front of a table is removed.)
local queue, first, last = {}, 1, 0;
local unacked = {};
-- The component's connection messages are handed to (a refused second connection is not it).
local active = nil;

local function prune()
	local t = now();
	while first <= last do
		local entry = queue[first];
		local expired = (t - entry.at) > keep_seconds or (last - first + 1) > keep_size;
		if unacked[entry.seq] and not expired then break; end
		if unacked[entry.seq] then
			module:log("warn", "message %s to %s never acknowledged by the component; no longer kept",
				entry.seq, tostring(entry.stanza.attr.to));
			unacked[entry.seq] = nil;
		end
		queue[first] = nil;
		first = first + 1;
	end
	if first > last then queue, first, last = {}, 1, 0; end
end

-- The component's ack: forget what it names.
local function on_ack(event)
	local origin, stanza = event.origin, event.stanza;
	local ack = stanza:get_child("ack", xmlns_ack);
	if not ack then return; end
	if origin.type ~= "component" or origin.host ~= module.host then return true; end
	for seq in (ack.attr.seqs or ""):gmatch("%S+") do unacked[seq] = nil; end
	prune();
	return true;
end

-- A message to the component while it is connected: numbered, kept, then forwarded by mod_component.
local function on_message(event)
	local origin, stanza = event.origin, event.stanza;
	if stanza:get_child("ack", xmlns_ack) then return on_ack(event); end
	if not active or (origin and origin.type == "component" and origin.host == module.host) then return; end
	if jid_host(stanza.attr.to) ~= module.host then return; end
	counter = counter + 1;
	local seq = boot .. "-" .. counter;
	stanza.attr["parley-seq"] = seq;
	local entry = { seq = seq, at = now(), stanza = st.clone(stanza) };
	last = last + 1;
	queue[last] = entry;
	unacked[seq] = entry;
	prune();
end

for _, kind in ipairs({ "bare", "full", "host" }) do
	module:hook("message/" .. kind, on_message, 500);
end

module:hook("component-authenticated", function (event)
	active = event.session;
	prune();
	local resent = 0;
	for i = first, last do
		local entry = queue[i];
		if unacked[entry.seq] then
			event.session.send(st.clone(entry.stanza));
			resent = resent + 1;
		end
	end
	if resent > 0 then
		module:log("info", "sent %d unacknowledged message(s) again to the component's new connection", resent);
	end
end, -10);

module:hook("component-disconnected", function (event)
	if event.session == active then active = nil; end
end);
