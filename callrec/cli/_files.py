"""Writing what the daemon returned, as the caller: kept in the access layer (``callrec.access``)
beside the socket's client side, for every front end."""

from callrec.access import export_target, make_private_dir, write_into, write_private_file

__all__ = ["export_target", "make_private_dir", "write_into", "write_private_file"]
