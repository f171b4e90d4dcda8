-- Serves pre-built raw HTTP requests, each once, from the file named after `--`:
-- every gateway request needs its own nonce. Requests are separated by NUL bytes.
local requests = {}
local next = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  for request in string.gmatch(data, "([^%z]+)%z") do
    requests[#requests + 1] = request
  end
end

function request()
  next = next + 1
  if next > #requests then next = 1 end
  return requests[next]
end
