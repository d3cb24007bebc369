-- aio.ocr_document_matches(asset, query): revision 0005.
-- The current definition (head).

-- Whether an asset's document matches a query. A function, not a sub-select: the planner then counts
-- a third of a list as matching (a sub-select with @@ counts one in two hundred), and reads lists in order.
CREATE FUNCTION aio.ocr_document_matches(asset uuid, query tsquery) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE COST 1000
AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM aio.ocr_document AS d WHERE d.asset_id = asset AND d.tsv @@ query);
END
$$;
