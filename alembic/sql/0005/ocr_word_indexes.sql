-- The lists' indexes and storage settings, and the triggers on aio.ocr_document that keep aio.ocr_word: revision 0005.
-- The indexes and triggers are the current definition (head); the storage settings (the ALTER TABLE) are replaced
-- by 0015/ocr_word_storage.sql, whose downgrade restores these.
--
-- Built after the back-fill (faster than row by row). The index by rank carries the asset and the flags,
-- so that a list is read from the index alone; asset_id is a key column so that a row is found again
-- exactly for deletion. The second index, only of documents not plain, orders them for queries not typed
-- plain.
-- The planner reads a list in order only while an index-only scan is cheap, that is while most of the
-- table is marked all-visible: VACUUM after the back-fill, and autovacuum soon after new photos' words.

ALTER TABLE aio.ocr_word SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.02);
CREATE INDEX ocr_word_list ON aio.ocr_word (word, rank DESC, asset_id) INCLUDE (plain, is_word);
CREATE INDEX ocr_word_list_not_plain ON aio.ocr_word (word, (rank * 2.25::real) DESC, asset_id) INCLUDE (is_word)
  WHERE NOT plain;
CREATE TRIGGER aio_ocr_word_insert AFTER INSERT ON aio.ocr_document
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_inserted();
CREATE TRIGGER aio_ocr_word_delete AFTER DELETE ON aio.ocr_document
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_deleted();
CREATE TRIGGER aio_ocr_word_update AFTER UPDATE ON aio.ocr_document
  REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_updated();
CREATE TRIGGER aio_ocr_word_truncate AFTER TRUNCATE ON aio.ocr_document
  FOR EACH STATEMENT EXECUTE FUNCTION aio.ocr_document_truncated();
