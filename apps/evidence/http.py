from urllib.parse import quote


def attachment_headers(name: str) -> dict[str, str]:
    """Headers that make a browser save, never render, the bytes: `attachment` with an ASCII fallback
    name and the exact UTF-8 name (RFC 6266 / RFC 5987 `filename*`), no content sniffing, no scripts."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name) or "evidence"
    exact = quote(name, safe="")
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
