-- mod_parley_dedup: the XMPP server drops a message Parley's gateway sends a second time.
--
-- A gateway killed right after writing a delivery to this server, before its progress record left
-- for NATS, has its next process send the delivery again (docs/reliability.md, "Known windows"):
-- the component protocol acknowledges nothing, so only the server can tell. Every message Parley
-- sends carries its delivery id as the stanza id, the same in every attempt; this module remembers
-- the ids of messages a component sent (for `parley_dedup_seconds`, at most `parley_dedup_size` of
-- them, oldest first out) and drops a message from that component whose id it saw in that time.
-- An error coming back for an id (the recipient's server refused it: a bounce, which Parley retries
-- with the same id) makes the server forget it, so the retry goes through.
--
-- Load it on every VirtualHost whose users talk to Parley and on Parley's component host:
--   modules_enabled = { ...; "parley_dedup" }                 -- global: the VirtualHosts
--   Component "conf.example.org"
--     component_secret = "..."
--     modules_enabled = { "parley_dedup" }                    -- the component host
-- Only components whose host loads it are deduplicated. The ids live in the server process; a
-- server that stops (SIGTERM, `prosodyctl stop`) writes those still inside the window to
-- `parley_dedup.txt` in its data directory, and the next process reads them back at start-up (and
-- removes the file). A server that dies without stopping (SIGKILL, a crash) forgets them: a gateway
-- kill at that very moment may double a delivery.

local cache = require "util.cache";
local jid_host = require "util.jid".host;
local now = require "util.time".now;
local modulemanager = require "core.modulemanager";

local window = module:get_option_number("parley_dedup_seconds", 300);
local size = module:get_option_number("parley_dedup_size", 100000);

-- One memory for every host that loads the module: a component's message is seen on the host of
-- its recipient (or, to another server, on the component's own host).
local shared = module:shared("/*/parley_dedup/seen");
if not shared.ids then shared.ids = cache.new(size); end
local seen = shared.ids;

-- What a stopping server leaves for its next process: one line per id, "<seen at>\t<host> <id>",
-- newest first (the cache's order). A file of the server's, not a host's store (as mod_parley_ack
-- uses): the memory is shared by every host that loads the module.
local state_file = prosody.paths.data .. "/parley_dedup.txt";

local function restore()
	local file = io.open(state_file, "r");
	if not file then return; end
	local lines, t = {}, now();
	for line in file:lines() do lines[#lines + 1] = line; end
	file:close();
	os.remove(state_file);
	local kept = 0;
	for i = #lines, 1, -1 do -- oldest first, so the newest end up newest
		local at, key = lines[i]:match("^([%d.]+)\t(.+)$");
		at = tonumber(at);
		if at and t - at < window then seen:set(key, at); kept = kept + 1; end
	end
	module:log("info", "remembered %d message id(s) from before the restart", kept);
end

local function save()
	local t, saved = now(), 0;
	local temporary = state_file .. ".tmp";
	local file, err = io.open(temporary, "w");
	if not file then
		module:log("error", "could not keep the message ids for the next start: %s", err);
		return;
	end
	for key, at in seen:items() do
		if t - at < window and not key:find("\n", 1, true) then
			file:write(string.format("%.3f\t%s\n", at, key));
			saved = saved + 1;
		end
	end
	file:close();
	os.rename(temporary, state_file);
	module:log("info", "kept %d message id(s) for the next start", saved);
end

if not shared.restored then
	shared.restored = true;
	restore();
end
-- After mod_parley_ack's drain of the component link (priority 10), which may add ids, and after
-- the users' sessions are closed (mod_c2s, -100).
module:hook_global("server-stopping", function ()
	if shared.saved then return; end
	shared.saved = true;
	save();
end, -300);

local function deduplicated(origin_host)
	return modulemanager.is_loaded(origin_host, "parley_dedup");
end

-- A message from a deduplicated component: true when its id was seen within the window (drop it).
local function repeated(event)
	local origin, stanza = event.origin, event.stanza;
	if not origin or origin.type ~= "component" or stanza.attr.type == "error" then return false; end
	local id = stanza.attr.id;
	if not id or id == "" or not deduplicated(origin.host) then return false; end
	local key = origin.host .. " " .. id;
	local at = seen:get(key);
	local t = now();
	if at and t - at < window then
		module:log("info", "dropped a repeated message %s from %s to %s", id, origin.host, tostring(stanza.attr.to));
		return true;
	end
	seen:set(key, t);
	return false;
end

-- An error for one of a component's messages (a bounce): forget its id, so the retry goes through.
-- The component is the error's addressee unless named. Every message on the server passes here (a
-- chat room's copies too): only an error costs more than a look at its type.
local function forget(stanza, component_host)
	local id = stanza.attr.id;
	if stanza.attr.type ~= "error" or not id then return; end
	component_host = component_host or jid_host(stanza.attr.to);
	if not component_host then return; end
	local key = component_host .. " " .. id;
	if seen:get(key) then seen:set(key, nil); end
end

for _, kind in ipairs({ "bare", "full", "host" }) do
	module:hook("message/" .. kind, function (event)
		if repeated(event) then return true; end
		forget(event.stanza);
	end, 1000);
end

-- A component's message to another server is routed from the component's own host.
module:hook("route/remote", function (event)
	if event.stanza.name == "message" and repeated(event) then return true; end
end, 1000);

-- The errors this server answers itself (no such user, …) are written straight to the component's
-- connection, not routed through the hooks above: watch what is sent to it as well.
module:hook("component-authenticated", function (event)
	local session = event.session;
	local send = session.send;
	session.send = function (stanza)
		if stanza.name == "message" then forget(stanza, session.host); end
		return send(stanza);
	end;
end);
