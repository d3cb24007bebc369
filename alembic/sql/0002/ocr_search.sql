-- aio.ocr_search(q), the function Immich's patch joins: revision 0002.
-- Replaced by 0004/ocr_search.sql, whose downgrade restores this one.

CREATE OR REPLACE FUNCTION aio.ocr_search(q text)
RETURNS TABLE (asset_id uuid, rank real)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 100
AS $$
  SELECT d.asset_id, aio.ocr_rank(d.tsv, query)
  FROM aio.ocr_query(q) AS query, aio.ocr_document AS d
  WHERE numnode(query) > 0 AND d.tsv @@ query
$$;
COMMENT ON FUNCTION aio.ocr_search(text) IS
  'OCR documents matching a user query (any input: words, "phrases", OR, -exclusions), with aio.ocr_rank';
