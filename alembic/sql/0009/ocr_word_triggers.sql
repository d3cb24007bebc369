-- The trigger functions on aio.ocr_document that keep aio.ocr_word: revision 0009.
-- Replace the functions of 0005/ocr_word.sql; 0009's downgrade restores those.
-- The current definition (head).
--
-- A photo's rows are removed by its asset (the index ocr_word_of_asset), never by computing them again from
-- the old document: 0005 found each row by its float rank, and a rank computed on another PostgreSQL build need
-- not be the same float, so a row was left behind and the photo kept matching a word it no longer held. A new
-- document first removes any rows its photo still has (left by such drift): one row per photo and word.
CREATE OR REPLACE FUNCTION aio.ocr_document_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aio.ocr_word AS w USING new_rows AS n WHERE w.asset_id = n.asset_id;
  INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank)
  SELECT r.word, n.asset_id, n.plain, r.is_word, r.rank FROM new_rows AS n, aio.ocr_word_rows(n.tsv, n.plain) AS r;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION aio.ocr_document_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aio.ocr_word AS w USING old_rows AS o WHERE w.asset_id = o.asset_id;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION aio.ocr_document_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Immich's OCR job rewrites every box of a photo: most updates change nothing searchable
  DELETE FROM aio.ocr_word AS w
  USING old_rows AS o JOIN new_rows AS n ON n.asset_id = o.asset_id
  WHERE (o.tsv, o.plain) IS DISTINCT FROM (n.tsv, n.plain) AND w.asset_id = o.asset_id;
  INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank)
  SELECT r.word, n.asset_id, n.plain, r.is_word, r.rank
  FROM new_rows AS n JOIN old_rows AS o ON o.asset_id = n.asset_id, aio.ocr_word_rows(n.tsv, n.plain) AS r
  WHERE (o.tsv, o.plain) IS DISTINCT FROM (n.tsv, n.plain);
  RETURN NULL;
END $$;
