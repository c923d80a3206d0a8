-- wrk script for scenario (e): every request carries one of many API keys, chosen at random.
--   wrk ... -s bench/many_keys.lua URL -- KEYS_FILE
-- KEYS_FILE has one key value a line. The requests are formatted once, in init (one per key,
-- with the -H headers of the command line), so choosing one costs the load generator a table
-- look-up, not a format.
local requests = {}

function init(args)
  local path = args[1]
  if path == nil then
    error("many_keys.lua needs the keys file: wrk ... -s many_keys.lua URL -- KEYS_FILE")
  end
  for key in io.lines(path) do
    if key ~= "" then
      local headers = {}
      for k, v in pairs(wrk.headers) do
        headers[k] = v
      end
      headers["x-api-key"] = key
      requests[#requests + 1] = wrk.format(nil, nil, headers)
    end
  end
  math.randomseed(os.time())
end

function request()
  return requests[math.random(#requests)]
end
