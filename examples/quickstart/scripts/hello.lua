-- A generated file: every client gets its own greeting, computed when it asks.
return function(req)
  return string.format("hello %s from port %d (you asked for %s, MAC %s)\n",
    req.ip, req.port, req.path, req.mac or "unknown")
end
