-- aio.ocr_word, the ordered word lists, and the trigger functions that keep them: revision 0005.
-- The current definition (head).

CREATE TABLE aio.ocr_word (
  word text NOT NULL,
  asset_id uuid NOT NULL,
  plain boolean NOT NULL,
  is_word boolean NOT NULL,
  rank real NOT NULL
);

CREATE FUNCTION aio.ocr_document_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank)
  SELECT r.word, n.asset_id, n.plain, r.is_word, r.rank FROM new_rows AS n, aio.ocr_word_rows(n.tsv, n.plain) AS r;
  RETURN NULL;
END $$;
CREATE FUNCTION aio.ocr_document_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aio.ocr_word AS w USING old_rows AS o, aio.ocr_word_rows(o.tsv, o.plain) AS r
  WHERE w.word = r.word AND w.rank = r.rank AND w.asset_id = o.asset_id;
  RETURN NULL;
END $$;
CREATE FUNCTION aio.ocr_document_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Immich's OCR job rewrites every box of a photo: most updates change nothing searchable
  DELETE FROM aio.ocr_word AS w
  USING old_rows AS o JOIN new_rows AS n ON n.asset_id = o.asset_id, aio.ocr_word_rows(o.tsv, o.plain) AS r
  WHERE (o.tsv, o.plain) IS DISTINCT FROM (n.tsv, n.plain)
    AND w.word = r.word AND w.rank = r.rank AND w.asset_id = o.asset_id;
  INSERT INTO aio.ocr_word (word, asset_id, plain, is_word, rank)
  SELECT r.word, n.asset_id, n.plain, r.is_word, r.rank
  FROM new_rows AS n JOIN old_rows AS o ON o.asset_id = n.asset_id, aio.ocr_word_rows(n.tsv, n.plain) AS r
  WHERE (o.tsv, o.plain) IS DISTINCT FROM (n.tsv, n.plain);
  RETURN NULL;
END $$;
CREATE FUNCTION aio.ocr_document_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN TRUNCATE aio.ocr_word; RETURN NULL; END $$;
