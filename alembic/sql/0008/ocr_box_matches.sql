-- aio.ocr_box_matches(asset, query): revision 0008.
-- The current definition (head).

-- Which of a photo's OCR boxes (Immich's asset_ocr rows) matched a search: the boxes whose text holds a place
-- the query's words match (aio.match_pattern, aio.match_ranges: the search's own parsing and normalisation),
-- each with those ranges, only when the photo's document matches the query as a whole. Boxes Immich v3 hides
-- after an edit ("isVisible" false, read through the row so that Immich versions without the column work too)
-- never match.
CREATE FUNCTION aio.ocr_box_matches(asset uuid, query text)
RETURNS TABLE (box_id uuid, text text, ranges jsonb)
LANGUAGE sql STABLE
AS $$
  SELECT o.id, o.text, r.ranges
  FROM (SELECT q, aio.match_pattern(q) AS pattern FROM aio.ocr_query(query) q) p
  JOIN aio.ocr_document d ON d.asset_id = asset AND d.tsv @@ p.q
  JOIN public.asset_ocr o ON o."assetId" = asset AND coalesce((to_jsonb(o) ->> 'isVisible')::boolean, true)
  CROSS JOIN LATERAL (SELECT aio.match_ranges(o.text, p.pattern, d.plain) AS ranges) r
  WHERE p.pattern IS NOT NULL AND r.ranges IS NOT NULL
  ORDER BY o.id
$$;
