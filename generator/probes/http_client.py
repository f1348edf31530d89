"""What the HTTP checks of one run share: the environment read once, TLS contexts, one aiohttp connector.

:class:`HttpEnvironment` reads the variables ``requests`` honours (``http_proxy``,
``https_proxy``, ``all_proxy``, ``no_proxy`` in either case, ``REQUESTS_CA_BUNDLE``,
``CURL_CA_BUNDLE``, ``NETRC``) in one pass, and answers per URL what ``requests``
would have done with them, so no check scans ``os.environ``.

:class:`AsyncHttpClient` is made once per run (see ``base.RunClients``). It keeps
settings and prepared objects only: its connector never reuses a connection
(``force_close``) nor caches DNS, so every check still resolves, connects and
handshakes, and sees those fail. TLS contexts (CA bundles loaded) are kept for
the process, per bundle file version. Each check gets its own light session on that
connector, so cookies never travel from one check to another.
"""

from __future__ import annotations

import os
import ssl
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union
from urllib.parse import urlsplit

import aiohttp
import certifi
from requests.utils import address_in_network, default_user_agent, is_ipv4_address, is_valid_cidr
from urllib3.util.ssl_ import create_urllib3_context

from generator.probes.http_spec import HttpSpec

SslArg = Union[ssl.SSLContext, bool]
ASYNC_PROXY_SCHEMES = ("http", "https")  # what aiohttp can tunnel through; others stay with requests
TRUST_KEYS = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy", "netrc"})


@dataclass(frozen=True)
class HttpEnvironment:
    """Proxy, CA and netrc settings from the environment, read once."""

    proxies: Mapping[str, str] = field(default_factory=dict)  # "http" / "https" / "all" -> proxy URL
    no_proxy: str = ""
    ca_bundle: Optional[str] = None  # REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE
    netrc: bool = False  # requests would read a netrc file for these checks

    @classmethod
    def read(cls, environ: Optional[Mapping[str, str]] = None) -> HttpEnvironment:
        env = dict(os.environ if environ is None else environ)
        # urllib's own reading (lower case wins; HTTP_PROXY ignored under CGI), as requests does
        found = urllib.request.getproxies_environment() if environ is None else _proxies_from(env)
        no_proxy = found.pop("no", "")
        proxies = {scheme: url for scheme, url in found.items() if url}
        # requests trusts the environment (and so a netrc file) only when something is set; the
        # blocking probe keeps that rule (see http._proxies_configured)
        trusting = any(key.lower() in TRUST_KEYS for key in env)
        netrc = trusting and (bool(env.get("NETRC")) or any((Path.home() / name).exists() for name in (".netrc", "_netrc")))
        return cls(proxies, no_proxy, env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or None, netrc)

    def proxy_for(self, url: str) -> Optional[str]:
        """The proxy requests would use for ``url``, or None (none set, or ``no_proxy`` matches)."""
        if not self.proxies:
            return None
        parts = urlsplit(url)
        proxy = self.proxies.get(parts.scheme.lower()) or self.proxies.get("all")
        if not proxy or self._bypass(parts.hostname, parts.port):
            return None
        return proxy if "://" in proxy else "http://" + proxy

    def _bypass(self, host: Optional[str], port: Optional[int]) -> bool:
        # requests.utils.should_bypass_proxies, fed the no_proxy read once instead of the environment
        if host is None:
            return True
        entries = [entry for entry in self.no_proxy.replace(" ", "").split(",") if entry]
        if is_ipv4_address(host):
            for entry in entries:
                if (is_valid_cidr(entry) and address_in_network(host, entry)) or host == entry:
                    return True
        else:
            with_port = f"{host}:{port}" if port else host
            if any(host.endswith(entry) or with_port.endswith(entry) for entry in entries):
                return True
        bypass = getattr(urllib.request, "proxy_bypass_environment")  # undocumented, but what requests itself calls
        return bool(bypass(host, {"no": self.no_proxy})) if self.no_proxy else False

    def blocking_only(self, url: str) -> bool:
        """True where only requests reproduces today's behaviour: a netrc file, a SOCKS proxy."""
        if self.netrc:
            return True
        proxy = self.proxy_for(url)
        return proxy is not None and urlsplit(proxy).scheme.lower() not in ASYNC_PROXY_SCHEMES


def _proxies_from(env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in sorted(env, key=lambda k: k.islower()):  # upper case first, lower case wins
        if key.lower().endswith("_proxy") and env[key]:
            found[key.lower()[: -len("_proxy")]] = env[key]
    return found


class AsyncHttpClient:
    """One per run, inside its event loop: the environment, TLS contexts by CA bundle, a connector."""

    def __init__(self, environment: Optional[HttpEnvironment] = None) -> None:
        self.environment = environment or HttpEnvironment.read()
        # every check connects anew: no keep-alive, no pooled or cached anything between checks
        self._connector = aiohttp.TCPConnector(force_close=True, limit=0, use_dns_cache=False)
        # what requests sends; Accept-Encoding stays aiohttp's (what it can decode)
        self.headers = {"User-Agent": default_user_agent(), "Accept": "*/*"}

    def session(self) -> aiohttp.ClientSession:
        """A session for one check: its own cookies (a redirect chain keeps them), the shared connector."""
        return aiohttp.ClientSession(
            connector=self._connector,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # requests keeps cookies of IP hosts too
            headers=self.headers,
            max_line_size=65536,  # http.client's limits, not aiohttp's tighter 8 KiB
            max_field_size=65536,
        )

    def ssl_for(self, spec: HttpSpec) -> SslArg:
        """``False`` for ``verify_tls: false``; else a verifying context for the bundle requests would use."""
        if not spec.verify_tls:
            return False
        return _verifying_context(spec.ca_bundle or self.environment.ca_bundle or certifi.where())

    async def aclose(self) -> None:
        await self._connector.close()


def _verifying_context(location: str) -> ssl.SSLContext:
    """urllib3's context (protocols, options, hostname check) loaded as requests' adapter loads it.
    Loading a bundle takes tens of ms: contexts are kept per file version, for the process."""
    if not os.path.exists(location):  # requests' words (raised outside any other error's context)
        raise OSError(f"Could not find a suitable TLS CA certificate bundle, invalid path: {location}")
    stat = os.stat(location)
    key = (location, stat.st_mtime_ns, stat.st_size)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
    if context is None:
        context = _load_context(location)
        with _CONTEXTS_LOCK:
            _CONTEXTS[key] = context
    return context


_CONTEXTS: dict[tuple[str, int, int], ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _load_context(location: str) -> ssl.SSLContext:
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    if os.path.isdir(location):
        context.load_verify_locations(capath=location)
    else:
        context.load_verify_locations(cafile=location)
    return context
