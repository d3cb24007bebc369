-- aio.rrf(clip_ids, ocr_ids, clip_weight, ocr_weight, k): revision 0001.
-- The current definition (head).

-- Reciprocal-rank fusion of the CLIP list and the OCR list (best first in each); weights per list.
CREATE FUNCTION aio.rrf(clip_ids uuid[], ocr_ids uuid[], clip_weight real DEFAULT 1, ocr_weight real DEFAULT 1,
                        k integer DEFAULT 60)
RETURNS TABLE (asset_id uuid, score double precision, clip_rank integer, ocr_rank integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH c AS (SELECT id, min(ord)::int AS r FROM unnest(clip_ids) WITH ORDINALITY AS t(id, ord) GROUP BY id),
       o AS (SELECT id, min(ord)::int AS r FROM unnest(ocr_ids) WITH ORDINALITY AS t(id, ord) GROUP BY id)
  SELECT coalesce(c.id, o.id),
         coalesce(clip_weight::double precision / (k + c.r), 0) + coalesce(ocr_weight::double precision / (k + o.r), 0),
         c.r, o.r
  FROM c FULL JOIN o ON c.id = o.id
  ORDER BY 2 DESC, coalesce(o.r, 2147483647), coalesce(c.r, 2147483647)
$$;
