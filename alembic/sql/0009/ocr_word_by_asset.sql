-- The index aio.ocr_word_by_asset: revision 0009.
-- Replaces 0007/ocr_word_by_asset.sql (a partial index of the Chinese words); 0009's downgrade restores it.
-- The current definition (head).
--
-- Every row, one per photo and word (unique: a duplicate cannot arise). The triggers find a photo's rows by it
-- to delete them, aio.or_matches' check by asset finds the other words of an OR in a document, and
-- aio.check_ocr each photo's rows.
CREATE UNIQUE INDEX ocr_word_by_asset ON aio.ocr_word (asset_id, word) INCLUDE (rank, is_word, plain);
