-- wrk script for scripts/bench: POSTs unique SCIM users to zoom-sim (the call h2r makes for a hire).
-- Environment: H2R_BENCH_TOKEN (bearer token fetched first; zoom-sim's, not a real secret),
-- H2R_BENCH_BASE (SCIM base path, default /scim2), H2R_BENCH_MODE = create (POST only) or
-- mix (GET ?filter=userName eq ... then POST, the pair h2r sends per hire).
local token = os.getenv("H2R_BENCH_TOKEN") or ""
local base = os.getenv("H2R_BENCH_BASE") or "/scim2"
local mode = os.getenv("H2R_BENCH_MODE") or "create"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local counter = 0
local pending_get = true

local function name_of(n)
  return string.format("wrk%d.user%d@bench.example.com", tid, n)
end

local function body_of(n)
  local name = name_of(n)
  return '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",' ..
         '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],' ..
         '"userName":"' .. name .. '","active":true,' ..
         '"name":{"givenName":"First' .. n .. '","familyName":"Last' .. n .. '"},' ..
         '"displayName":"First' .. n .. ' Last' .. n .. '","title":"Engineer",' ..
         '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering",' ..
         '"employeeNumber":"W' .. tid .. '-' .. n .. '"}}'
end

local function url_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Accept"] = "application/scim+json",
  }
  if mode == "mix" and pending_get then
    pending_get = false
    local filter = url_encode('userName eq "' .. name_of(counter + 1) .. '"')
    return wrk.format("GET", base .. "/Users?filter=" .. filter .. "&startIndex=1&count=10", headers)
  end
  pending_get = true
  counter = counter + 1
  headers["Content-Type"] = "application/scim+json"
  return wrk.format("POST", base .. "/Users", headers, body_of(counter))
end
