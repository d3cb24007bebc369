-- The rebuild queue of 0004's upgrade and downgrade (dropped when done): revision 0004.
-- The current definition (head).

CREATE TABLE IF NOT EXISTS aio.rebuild_queue (asset_id uuid PRIMARY KEY);
-- Rebuild up to `batch` queued documents from asset_ocr in the current form; returns how many remain.
CREATE OR REPLACE FUNCTION aio.rebuild_ocr_documents(batch integer) RETURNS bigint LANGUAGE plpgsql
AS $$
DECLARE
  ids uuid[];
BEGIN
  WITH taken AS (
    DELETE FROM aio.rebuild_queue WHERE asset_id IN (SELECT asset_id FROM aio.rebuild_queue LIMIT batch)
    RETURNING asset_id
  )
  SELECT array_agg(asset_id) INTO ids FROM taken;
  IF ids IS NOT NULL THEN
    PERFORM aio.refresh_ocr_documents(ids);
  END IF;
  RETURN (SELECT count(*) FROM aio.rebuild_queue);
END
$$;
