-- mod_parley_fanout: one stanza from Parley's component, many recipients — the server makes the
-- copies, as its own multi-user chat does.
--
-- Without it gateway-xmpp writes one message per recipient: a message to a 500-person conference is
-- 499 stanzas the gateway serializes and this server parses, where a chat room parses one and routes
-- copies. Measured (docs/performance.md): at N = 500 this server spent twice the CPU per delivery in
-- Parley's step that it spent in the room's, and the last recipient waited for it. With this module
-- the gateway sends, for the recipients of one message written in the same turn,
--   <message from="<bot>@<component>" to="<component>" type="chat">
--     <body>…</body> …
--     <fanout xmlns="urn:parley:fanout"><to jid="<recipient>" id="<delivery id>"/> …</fanout>
--   </message>
-- and the module routes one copy per <to> (the stanza without <fanout>, with that `to` and `id`),
-- from the component's session, in order: every other module sees each copy as if the component had
-- sent it (mod_parley_dedup drops a repeated id; an error for a copy comes back with its id, a bounce
-- as before; a malformed recipient address gets its copy refused with `jid-malformed`, the others
-- are sent). At most `parley_fanout_max` (default 100) recipients a stanza; more are refused.
--
-- When the component connects, the module tells it it is there:
--   <message from="<component>" to="<component>"><fanout xmlns="urn:parley:fanout" max="100"/></message>
-- and the gateway uses it from then on for that connection (a server without the module never says
-- so, and gets one stanza per recipient).
--
-- Load it in Parley's component block:
--   Component "conf.example.org"
--     modules_enabled = { "parley_dedup"; "parley_ack"; "parley_fanout" }

local st = require "util.stanza";
local cache = require "util.cache";
local jid_prep = require "util.jid".prep;

local xmlns_fanout = "urn:parley:fanout";
local max_recipients = module:get_option_number("parley_fanout_max", 100);

-- A conference's recipients come again with every message: their addresses are prepared
-- (stringprep) once, not once per copy. false: malformed.
local prepared = cache.new(module:get_option_number("parley_fanout_jid_cache", 10000));
local function prep(raw)
	if raw == nil then return nil; end
	local known = prepared:get(raw);
	if known == nil then
		known = jid_prep(raw) or false;
		prepared:set(raw, known);
	end
	return known or nil;
end

-- A fan-out from the component to its own host: expanded here, never forwarded to the component.
local function on_fanout(event)
	local origin, stanza = event.origin, event.stanza;
	local fanout = stanza:get_child("fanout", xmlns_fanout);
	if not fanout then return; end
	if origin.type ~= "component" or origin.host ~= module.host or stanza.name ~= "message" then
		return true; -- only the component may ask for copies
	end
	local recipients = {};
	for to in fanout:childtags("to", xmlns_fanout) do recipients[#recipients + 1] = to.attr; end
	if #recipients > max_recipients then
		module:log("warn", "fan-out to %d recipients (at most %d); dropped", #recipients, max_recipients);
		return true;
	end
	-- One copy without <fanout>, routed once per recipient with that recipient's `to` and `id`, as
	-- mod_muc routes one stanza to each occupant: routing is synchronous and whatever keeps a
	-- stanza for later (offline storage, carbons, stream management, s2s queues) copies or
	-- serializes it. With a clone per recipient this server spent up to 1.8 times the room's CPU
	-- per delivery, most of it in its garbage collector (docs/performance.md, tenth session).
	local copy = st.clone(stanza);
	copy:maptags(function (child)
		if child.name == "fanout" and child.attr.xmlns == xmlns_fanout then return nil; end
		return child;
	end);
	for _, recipient in ipairs(recipients) do
		local id = recipient.id;
		if not id or id == "" then
			module:log("warn", "fan-out recipient without an id (jid %s); skipped", tostring(recipient.jid));
		else
			copy.attr.id = id;
			local jid = prep(recipient.jid);
			if jid then
				copy.attr.to = jid;
				module:send(copy, origin);
			else
				-- This copy alone is refused, as the server refuses a stanza to a malformed address.
				copy.attr.to = recipient.jid;
				origin.send(st.error_reply(copy, "modify", "jid-malformed"));
			end
		end
	end
	return true;
end

-- After mod_parley_dedup (1000: a fan-out has no id, so it passes), before mod_parley_ack (500) and
-- mod_component (-1), which would forward it to the component.
module:hook("message/host", on_fanout, 900);

module:hook("component-authenticated", function (event)
	event.session.send(st.message({ from = module.host, to = module.host })
		:tag("fanout", { xmlns = xmlns_fanout, max = tostring(max_recipients) }));
end);
