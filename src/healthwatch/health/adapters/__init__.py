"""Framework adapters for the health routes: ASGI, WSGI, aiohttp and gRPC health v1.

Each is its own module, imported only when used; the aiohttp and gRPC ones need
those libraries (the ``grpc`` extra for gRPC). All of them answer through
:class:`healthwatch.health.HealthRoutes`, so a route behaves the same mounted
anywhere.
"""
