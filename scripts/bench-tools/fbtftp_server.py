#!/usr/bin/env python3
"""fbtftp serving the same generated pxelinux.cfg/01-<mac> answer as pxelinux_answer.lua, for scripts/bench.

Usage: fbtftp_server.py PORT   (listens on 127.0.0.1:PORT until killed)
"""
import sys

from fbtftp.base_handler import BaseHandler, StringResponseData
from fbtftp.base_server import BaseServer

from pxelinux_answer import answer


class Handler(BaseHandler):
    def get_response_data(self):
        return StringResponseData(answer(self._path))


class Server(BaseServer):
    def get_handler(self, server_addr, peer, path, options):
        return Handler(server_addr, peer, path, options, lambda stats: None)


if __name__ == "__main__":
    Server("127.0.0.1", int(sys.argv[1]), retries=5, timeout=1, server_stats_callback=lambda stats: None).run()
