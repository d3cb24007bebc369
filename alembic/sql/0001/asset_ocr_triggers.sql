-- The triggers that keep aio.ocr_document in step with Immich's asset_ocr: revision 0001.
-- The current definition (head).

CREATE FUNCTION aio.asset_ocr_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM aio.refresh_ocr_documents(ARRAY(SELECT DISTINCT "assetId" FROM new_rows)); RETURN NULL; END $$;
CREATE FUNCTION aio.asset_ocr_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM aio.refresh_ocr_documents(ARRAY(SELECT DISTINCT "assetId" FROM old_rows)); RETURN NULL; END $$;
CREATE FUNCTION aio.asset_ocr_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM aio.refresh_ocr_documents(ARRAY(SELECT "assetId" FROM new_rows UNION SELECT "assetId" FROM old_rows));
  RETURN NULL;
END $$;
CREATE FUNCTION aio.asset_ocr_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN TRUNCATE aio.ocr_document; RETURN NULL; END $$;

CREATE TRIGGER aio_ocr_document_insert AFTER INSERT ON public.asset_ocr
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_inserted();
CREATE TRIGGER aio_ocr_document_delete AFTER DELETE ON public.asset_ocr
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_deleted();
CREATE TRIGGER aio_ocr_document_update AFTER UPDATE ON public.asset_ocr
  REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_updated();
CREATE TRIGGER aio_ocr_document_truncate AFTER TRUNCATE ON public.asset_ocr
  FOR EACH STATEMENT EXECUTE FUNCTION aio.asset_ocr_truncated();
