-- aio.refresh_ocr_documents(ids): revision 0001.
-- Replaced by 0004/refresh_ocr_documents.sql, whose downgrade restores this one.
--
-- Rebuild the documents of these assets from asset_ocr: box texts in reading order (top to bottom in
-- bands of 1/50 of the height, then left to right), one line each.

CREATE OR REPLACE FUNCTION aio.refresh_ocr_documents(ids uuid[]) RETURNS void LANGUAGE sql
AS $$
  DELETE FROM aio.ocr_document d
  WHERE d.asset_id = ANY (ids) AND NOT EXISTS (SELECT 1 FROM public.asset_ocr o WHERE o."assetId" = d.asset_id);
  INSERT INTO aio.ocr_document (asset_id, body, tsv)
  SELECT b.asset_id, b.body, aio.ocr_tsvector(b.body)
  FROM (
    SELECT o."assetId" AS asset_id, string_agg(o.text, E'\n' ORDER BY floor((o.y1 + o.y2) * 25), o.x1) AS body
    FROM public.asset_ocr o WHERE o."assetId" = ANY (ids) GROUP BY o."assetId"
  ) b
  WHERE EXISTS (SELECT 1 FROM public.asset a WHERE a.id = b.asset_id)
  ON CONFLICT (asset_id) DO UPDATE SET body = excluded.body, tsv = excluded.tsv;
$$;
