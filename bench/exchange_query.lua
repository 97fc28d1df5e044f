-- wrk script of bench/exchange.py: POST /api/v1/exchange/query with a different subject key per
-- request, the way a department's system calls the gateway (integration key, case, purpose).
--
--   wrk -t2 -c16 -d10s --latency -s bench/exchange_query.lua http://127.0.0.1:PORT/api/v1/exchange/query -- DATA_FILE
--
-- DATA_FILE (written by bench/exchange.py): line 1 the bearer token, line 2 the resource code,
-- line 3 the purpose, then one "subject key<TAB>case number" per line.

local rows = {}
local counter = 0
local headers = {}
local resource, purpose
local index = 0

local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("thread_no", threads)
end

local function json_string(text)
    return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function init(args)
    local lines = io.lines(args[1])
    local token = lines()
    resource = lines()
    purpose = lines()
    for line in lines do
        local key, case = line:match("^([^\t]+)\t([^\t]+)$")
        if key then
            rows[#rows + 1] = { key, case }
        end
    end
    assert(#rows > 0, "no subject keys in " .. args[1])
    headers["Content-Type"] = "application/json"
    headers["Authorization"] = "Bearer " .. token
    -- Threads start far apart in the key list, so that no two send the same key together.
    index = math.floor((thread_no or 1) * #rows / 7)
end

function request()
    index = index + 1
    local row = rows[index % #rows + 1]
    local body = '{"resource":' .. json_string(resource) .. ',"key":' .. json_string(row[1])
        .. ',"case_number":' .. json_string(row[2]) .. ',"purpose":' .. json_string(purpose) .. '}'
    return wrk.format("POST", nil, headers, body)
end
