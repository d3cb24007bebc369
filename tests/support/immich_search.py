"""Immich v2.4.1's own OCR search, reproduced for comparison: CJK bigram tokens (tokenizeForSearch in
server/src/utils/database.ts) stored in ocr_search, matched with pg_trgm's strict word similarity."""

from __future__ import annotations


def _is_cjk(char: str) -> bool:
    c = ord(char)
    return (
        0x4E00 <= c <= 0x9FFF
        or 0xAC00 <= c <= 0xD7AF
        or 0x3040 <= c <= 0x309F
        or 0x30A0 <= c <= 0x30FF
        or 0x3400 <= c <= 0x4DBF
    )


def tokenize_for_search(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        if ord(text[i]) <= 32:
            i += 1
            continue
        start = i
        if _is_cjk(text[i]):
            while i < len(text) and _is_cjk(text[i]):
                i += 1
            if i - start == 1:
                tokens.append(text[start])
            else:
                tokens.extend(text[k : k + 2] for k in range(start, i - 1))
        else:
            while i < len(text) and ord(text[i]) > 32 and not _is_cjk(text[i]):
                i += 1
            tokens.append(text[start:i])
    return tokens


def store_sql() -> str:
    """Immich's upsert of ocr_search for one asset (the search text is computed in TypeScript)."""
    return (
        'INSERT INTO ocr_search ("assetId", text) VALUES (%s, %s) '
        'ON CONFLICT ("assetId") DO UPDATE SET text = excluded.text'
    )


# Immich orders metadata search results by file creation date, newest first.
SEARCH_SQL = (
    'SELECT a.id FROM asset a JOIN ocr_search s ON a.id = s."assetId" '
    'WHERE f_unaccent(s.text) %%>> f_unaccent(%s) ORDER BY a."fileCreatedAt" DESC LIMIT %s'
)
