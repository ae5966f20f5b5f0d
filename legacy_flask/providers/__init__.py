"""Blocking provider clients, as MVidarr's src/services/*_service.py: one module and one
singleton per provider, `requests` calls inside the request thread, rate limits kept with
`time.sleep` under a process-wide lock.

Base URLs and keys come from `app.config` (env: SPOTIFY_API_URL, SPOTIFY_ACCOUNTS_URL,
MUSICBRAINZ_API_URL, LASTFM_API_URL, IMVDB_API_URL, SPOTIFY_CLIENT_ID/SECRET, LASTFM_API_KEY,
IMVDB_API_KEY); a non-empty key in the settings table wins over the env, as MVidarr reads its
`spotify_client_id`, `lastfm_api_key` and `imvdb_api_key` settings. The spacing between
MusicBrainz and IMVDb requests defaults to MVidarr's 1 s (IMVDb's 429 pause to 5 s) and can be
shortened with MUSICBRAINZ_MIN_INTERVAL, IMVDB_MIN_INTERVAL, IMVDB_RETRY_PAUSE (env or config).

Every failure a caller should report is a `ProviderError`; "nothing found" is `None`/`[]`.
"""

from legacy_flask.providers._common import ProviderError, ProviderNotConfigured

__all__ = ["ProviderError", "ProviderNotConfigured"]
