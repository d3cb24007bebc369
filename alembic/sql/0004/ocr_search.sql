-- aio.ocr_search(q), the function Immich's patch joins: revision 0004.
-- Replaces 0002/ocr_search.sql; 0004's downgrade restores that one.
-- Replaced by 0005/ocr_search.sql, whose downgrade restores this one.

-- Exact forms first: a document in the form the query was typed in (both plain, or both not) ranks 1.5
-- times higher; one flag per document, so this costs nothing per row.
CREATE OR REPLACE FUNCTION aio.ocr_search(q text)
RETURNS TABLE (asset_id uuid, rank real)
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 100
AS $$
  SELECT d.asset_id, (CASE WHEN d.plain = typed.plain THEN 1.5 ELSE 1 END * aio.ocr_rank(d.tsv, query))::real
  FROM aio.ocr_query(q) AS query,
       -- OFFSET 0 keeps this sub-select from being pulled up into a per-row expression: once per query
       (SELECT lower(coalesce(q, '')) = aio.normalize(coalesce(q, '')) AS plain OFFSET 0) AS typed,
       aio.ocr_document AS d
  WHERE numnode(query) > 0 AND d.tsv @@ query
$$;
COMMENT ON FUNCTION aio.ocr_search(text) IS
  'OCR documents matching a user query (any input: words, "phrases", OR, -exclusions), normalised (Traditional '
  'and Simplified, full-width, codes), with aio.ocr_rank, exact forms first';
