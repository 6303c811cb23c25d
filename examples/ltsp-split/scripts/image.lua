-- images/<export>/<path> : a file from inside the image that NBD export serves (images/trusty-amd64@3f9a2c01/vmlinuz
-- for that version of it), over TFTP and HTTP alike. A missing file answers like a missing static file.
return function(req)
  return thinboot.image_file(req.params.image, req.captures[1])
end
