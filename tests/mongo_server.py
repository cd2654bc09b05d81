"""A MongoDB wire-protocol server for the integration tests (mongoeco, Python >= 3.13).

Run with the interpreter of ``.venv-mongo`` (``make .venv-mongo/.installed``)::

    .venv-mongo/bin/python tests/mongo_server.py --port 27999 [--sqlite PATH]

It serves until killed. The test fixture in ``tests/store/conftest.py`` starts it as a
subprocess on a free port and waits for the port to accept connections.
"""

from __future__ import annotations

import argparse
import asyncio


async def serve(port: int, sqlite_path: str | None) -> None:
    """Serve mongoeco on ``127.0.0.1:port`` until cancelled."""
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    engine = SQLiteEngine(sqlite_path) if sqlite_path else MemoryEngine()
    async with AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=port) as server:
        print(f"mongoeco listening on {server.address.host}:{server.address.port}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sqlite", default=None, help="database file (default: in memory)")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.sqlite))


if __name__ == "__main__":
    main()
