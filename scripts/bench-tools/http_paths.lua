-- scripts/bench http: wrk asks for pxelinux.cfg/01-52-54-00-12-34-XX, cycling through 256 client MACs per thread,
-- as a boot storm of different clients would.
local counter = 0
local prefix = "/pxelinux.cfg/01-52-54-00-12-34-"

request = function()
  counter = (counter + 1) % 256
  return wrk.format("GET", prefix .. string.format("%02x", counter))
end
