-- The index aio.ocr_word_of_asset: revision 0009.
-- Replaces 0007/ocr_word_by_asset.sql; 0009's downgrade restores that one.
-- The current definition (head).
--
-- A photo's rows of the lists, by photo: the triggers remove them by it, never by computing them again from
-- the old document; aio.or_matches' check finds the other words of an OR in a photo by it, and aio.check_ocr a
-- photo's rows. The photo alone as the key (no word, no included column): PostgreSQL stores each photo once
-- with the list of its rows (B-tree deduplication), a few bytes a row.
CREATE INDEX ocr_word_of_asset ON aio.ocr_word (asset_id);
