-- scripts/bench: the generated pxelinux.cfg/01-<mac> answer, exactly 300 bytes.
-- scripts/bench-tools/fbtftp_server.py generates the same bytes in Python; keep the two in step.
local hosts = { ["52:54:00:12:34:00"] = "alpha", ["52:54:00:12:34:01"] = "beta" }

return function(req)
  local mac = req.mac
  if mac == nil then
    local dashed = req.path:match("01%-(%x%x%-%x%x%-%x%x%-%x%x%-%x%x%-%x%x)$")
    if dashed == nil then return nil end
    mac = dashed:gsub("-", ":")
  end
  mac = mac:lower()
  local host = hosts[mac] or ("tc-" .. mac:gsub(":", ""))
  local body = "DEFAULT ltsp\nLABEL ltsp\n  KERNEL ltsp/amd64/vmlinuz\n"
    .. "  APPEND ro initrd=ltsp/amd64/initrd.img nbdroot=127.0.0.1:10809/trusty-amd64 root=/dev/nbd0 hostname="
    .. host .. " mac=" .. mac .. "\n"
  return body .. "#" .. string.rep("-", 300 - #body - 2) .. "\n"
end
