-- aio.refresh_ocr_documents(ids): revision 0004.
-- Replaces 0001/refresh_ocr_documents.sql; 0004's downgrade restores that one.
-- The current definition (head).

CREATE OR REPLACE FUNCTION aio.refresh_ocr_documents(ids uuid[]) RETURNS void LANGUAGE sql
AS $$
  DELETE FROM aio.ocr_document d
  WHERE d.asset_id = ANY (ids) AND NOT EXISTS (
    SELECT 1 FROM public.asset_ocr o
    WHERE o."assetId" = d.asset_id AND coalesce((to_jsonb(o) ->> 'isVisible')::boolean, true)
  );
  INSERT INTO aio.ocr_document (asset_id, body, tsv, plain)
  SELECT b.asset_id, b.body, aio.ocr_tsvector(b.body), lower(b.body) = aio.normalize(b.body)
  FROM (
    SELECT o."assetId" AS asset_id, string_agg(o.text, E'\n' ORDER BY floor((o.y1 + o.y2) * 25), o.x1) AS body
    FROM public.asset_ocr o
    -- Immich v3 hides the boxes of an edited photo ("isVisible" false): they are not searchable. Read
    -- through the row so that the same function serves Immich versions without the column.
    WHERE o."assetId" = ANY (ids) AND coalesce((to_jsonb(o) ->> 'isVisible')::boolean, true)
    GROUP BY o."assetId"
  ) b
  WHERE EXISTS (SELECT 1 FROM public.asset a WHERE a.id = b.asset_id)
  ON CONFLICT (asset_id) DO UPDATE SET body = excluded.body, tsv = excluded.tsv, plain = excluded.plain;
$$;
