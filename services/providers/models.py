"""Pydantic models of the provider fields figway uses. Unknown fields are kept (`extra="allow"`)
because enrichment stores IMVDb's whole video record, as legacy does; `raw()` gives the
provider's record back as it came."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class ProviderModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    _source: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Self:
        """Validate a provider record and keep the record itself for `raw()`."""
        model = cls.model_validate(body)
        model._source = body
        return model

    def raw(self) -> dict[str, Any]:
        """The record exactly as the provider sent it (falls back to a dump when built by hand)."""
        return dict(self._source) if self._source else self.model_dump(mode="json", exclude_unset=True)


# --------------------------------------------------------------- Spotify


class SpotifyToken(ProviderModel):
    access_token: str
    expires_in: int = 3600


class SpotifyArtist(ProviderModel):
    id: str
    name: str = ""
    genres: list[str] = Field(default_factory=list)
    popularity: int | None = None


class _SpotifyArtistPage(ProviderModel):
    items: list[SpotifyArtist] = Field(default_factory=list)


class SpotifySearch(ProviderModel):
    artists: _SpotifyArtistPage | None = None


# ----------------------------------------------------------- MusicBrainz


class NamedTag(ProviderModel):
    name: str = ""


class MusicBrainzArtist(ProviderModel):
    id: str
    name: str = ""
    tags: list[NamedTag] = Field(default_factory=list)


class MusicBrainzSearch(ProviderModel):
    artists: list[MusicBrainzArtist] = Field(default_factory=list)


# --------------------------------------------------------------- Last.fm


class _TagList(ProviderModel):
    tag: list[NamedTag] = Field(default_factory=list)


class LastfmArtist(ProviderModel):
    name: str = ""
    tags: _TagList | None = None

    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags.tag] if self.tags else []


class LastfmTrack(ProviderModel):
    name: str = ""
    url: str | None = None
    duration: str | int | None = None
    listeners: str | int | None = None
    playcount: str | int | None = None
    toptags: _TagList | None = None

    def tag_names(self) -> list[str]:
        return [t.name for t in self.toptags.tag] if self.toptags else []


# ----------------------------------------------------------------- IMVDb


class ImvdbEntity(ProviderModel):
    id: int | str
    name: str = ""


class ImvdbArtistRef(ProviderModel):
    name: str = ""


class ImvdbDirector(ProviderModel):
    entity_name: str | None = None


class ImvdbSource(ProviderModel):
    source: str | None = None
    source_data: str | None = None


class ImvdbVideo(ProviderModel):
    id: int | str
    song_title: str = ""
    year: int | None = None
    image: dict[str, str] | None = None
    artists: list[ImvdbArtistRef] = Field(default_factory=list)
    directors: list[ImvdbDirector] = Field(default_factory=list)
    sources: list[ImvdbSource] = Field(default_factory=list)


class ImvdbSearch(ProviderModel):
    results: list[dict[str, Any]] = Field(default_factory=list)
