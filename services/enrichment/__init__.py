"""Artist and video metadata enrichment from the four providers, asked concurrently."""
