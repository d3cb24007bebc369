-- aio.check_ocr() and aio.repair_ocr(ids): revision 0009.
-- The current definition (head).
--
-- Whether aio's documents and word lists agree with Immich's asset_ocr, and the mending of the photos where
-- they do not. `immich-sidecar db check [--repair]` runs them (the repair in committed batches), and so does
-- `db upgrade` when this database's search index was made by another build (aio.ocr_build).
--
-- aio.check_ocr(): one row per photo and problem:
--   document missing    the photo has visible OCR boxes but no document
--   document stale      a document without a photo or without visible OCR boxes
--   document differs    its text is not the boxes' text in reading order (as aio.refresh_ocr_documents joins
--                       them), or its index form or plain flag is not what this build makes of that text
--   list missing        a word of the document has no row in aio.ocr_word
--   list stale          a row of aio.ocr_word for a word the document does not hold, or for no document
--   list duplicate      two rows of one photo for one word
--   list differs        a row whose rank or flags are not what this build makes of the document
-- The lists are compared with the documents as stored; a photo whose document differs is rebuilt whole.
CREATE FUNCTION aio.check_ocr() RETURNS TABLE(asset_id uuid, part text, problem text)
LANGUAGE sql STABLE
AS $$
  WITH boxes AS (
    SELECT o."assetId" AS asset_id, string_agg(o.text, E'\n' ORDER BY floor((o.y1 + o.y2) * 25), o.x1) AS body
    FROM public.asset_ocr AS o
    WHERE coalesce((to_jsonb(o) ->> 'isVisible')::boolean, true)
      AND EXISTS (SELECT 1 FROM public.asset AS a WHERE a.id = o."assetId")
    GROUP BY o."assetId"
  )
  SELECT coalesce(b.asset_id, d.asset_id), 'document',
         CASE WHEN d.asset_id IS NULL THEN 'missing' WHEN b.asset_id IS NULL THEN 'stale' ELSE 'differs' END
  FROM boxes AS b FULL JOIN aio.ocr_document AS d ON d.asset_id = b.asset_id
  WHERE d.asset_id IS NULL OR b.asset_id IS NULL OR d.body <> b.body
     OR d.tsv <> aio.ocr_tsvector(d.body) OR d.plain <> (lower(d.body) = aio.normalize(d.body))
  UNION ALL
  SELECT d.asset_id, 'list', p.problem
  FROM aio.ocr_document AS d, LATERAL (
    SELECT DISTINCT CASE WHEN e.word IS NULL THEN 'stale' WHEN w.word IS NULL THEN 'missing' ELSE 'differs' END
    FROM aio.ocr_word_rows(d.tsv, d.plain) AS e
    FULL JOIN (SELECT x.word, x.is_word, x.rank, x.plain FROM aio.ocr_word AS x WHERE x.asset_id = d.asset_id) AS w
      ON w.word = e.word
    WHERE e.word IS NULL OR w.word IS NULL OR (w.is_word, w.rank, w.plain) IS DISTINCT FROM (e.is_word, e.rank, d.plain)
    UNION
    SELECT 'duplicate' FROM aio.ocr_word AS x WHERE x.asset_id = d.asset_id GROUP BY x.word HAVING count(*) > 1
  ) AS p(problem)
  UNION ALL
  SELECT DISTINCT w.asset_id, 'list', 'stale'
  FROM aio.ocr_word AS w
  WHERE NOT EXISTS (SELECT 1 FROM aio.ocr_document AS d WHERE d.asset_id = w.asset_id)
$$;

-- Rebuild the photos `ids` from asset_ocr: their documents and all their rows of the lists, made again.
CREATE FUNCTION aio.repair_ocr(ids uuid[]) RETURNS void LANGUAGE plpgsql
AS $$
BEGIN
  DELETE FROM aio.ocr_document AS d WHERE d.asset_id = ANY (ids);  -- its trigger removes the photos' rows
  DELETE FROM aio.ocr_word AS w WHERE w.asset_id = ANY (ids);      -- and rows left without a document
  PERFORM aio.refresh_ocr_documents(ids);                         -- new documents: their rows by trigger
END
$$;
