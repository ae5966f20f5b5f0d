"""Repository tools (not part of any program): generated docs."""
