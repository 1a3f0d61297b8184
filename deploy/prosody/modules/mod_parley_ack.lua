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
--
-- When the server stops (SIGTERM, `prosodyctl stop`), before it closes its users' sessions, it ends
-- its stream to the component and keeps reading the component's stanzas until the component ends
-- its own (at most `parley_ack_drain_seconds`, default 5), then waits (as long again at most) until
-- its users' connections have written what was routed to them: what the gateway wrote before it
-- learned of the stop reaches its users live, instead of dying unread in the socket with the
-- process (gateway-xmpp answers a server's stream end with its own; the deliveries it could not
-- write wait for the next server process). Once the sessions are closed, the messages not
-- acknowledged yet are written to the host's storage (`parley_ack`), and the next process reads
-- them back and hands them to the component's first connection. A server that dies without
-- stopping (SIGKILL, a crash) loses what was not acknowledged.

local st = require "util.stanza";
local async = require "util.async";
local jid_host = require "util.jid".host;
local now = require "util.time".now;
local id = require "util.id";

local keep_seconds = module:get_option_number("parley_ack_seconds", 300);
local keep_size = module:get_option_number("parley_ack_size", 10000);
local drain_seconds = module:get_option_number("parley_ack_drain_seconds", 5);
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

-- ---- Across a restart of the server ----

local store = module:open_store("parley_ack");

local function save()
	prune();
	local messages = {};
	for i = first, last do
		local entry = queue[i];
		if unacked[entry.seq] then
			messages[#messages + 1] = { seq = entry.seq, at = entry.at, stanza = st.preserialize(entry.stanza) };
		end
	end
	if #messages == 0 then return; end
	local ok, err = store:set("unacked", { messages = messages });
	if ok then
		module:log("info", "kept %d unacknowledged message(s) for the next start", #messages);
	else
		module:log("error", "could not keep %d unacknowledged message(s): %s", #messages, tostring(err));
	end
end

local function restore()
	local saved = store:get("unacked");
	if not saved or type(saved.messages) ~= "table" then return; end
	for _, message in ipairs(saved.messages) do
		local entry = { seq = message.seq, at = message.at, stanza = st.deserialize(message.stanza) };
		last = last + 1;
		queue[last] = entry;
		unacked[entry.seq] = entry;
	end
	store:set("unacked", nil);
	prune();
	module:log("info", "%d unacknowledged message(s) from before the restart wait for the component", #saved.messages);
end

restore();

-- Whether a user connection still holds data it has not written (net.server_epoll's buffer).
local function unflushed()
	for _, session in pairs(prosody.full_sessions) do
		local buffer = session.conn and session.conn.writebuffer;
		if (type(buffer) == "table" and buffer[1]) or (type(buffer) == "string" and buffer ~= "") then return true; end
	end
	return false;
end

-- Ends the stream to the component and reads its stanzas until it ends its own (or the drain time
-- is up), then lets the users' connections write what was routed to them. Runs before mod_c2s
-- closes the users' sessions (priority -100), so what the gateway wrote reaches them live.
local function drain()
	local session = active;
	if not session or not session.conn or not async.ready() then return; end
	local wait, done = async.waiter(1, true);
	local finished = false;
	local function finish()
		if finished then return; end
		finished = true;
		done();
	end
	module:hook("component-disconnected", function (event)
		if event.session == session then finish(); end
	end);
	module:add_timer(drain_seconds, function ()
		if not finished then module:log("warn", "the component did not end its stream within %ds", drain_seconds); end
		finish();
	end);
	module:log("info", "server stopping: ending the stream to the component, reading what it still sends");
	session.send("</stream:stream>");
	-- Nothing more on a stream we ended (mod_component's close would write a second stream end).
	session.send = function () return false; end;
	wait();
	local waited = 0;
	while unflushed() and waited < drain_seconds do
		async.sleep(0.01);
		waited = waited + 0.01;
	end
end

module:hook_global("server-stopping", drain, 10);
-- After mod_c2s closed the sessions: a user's message routed to the component since the drain
-- began is among the unacknowledged ones.
module:hook_global("server-stopping", save, -200);
