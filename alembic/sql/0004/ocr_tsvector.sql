-- aio.ocr_tsvector(body): revision 0004.
-- Replaces 0001/ocr_tsvector.sql; 0004's downgrade restores that one.
-- Replaced by 0014/ocr_tsvector.sql, whose downgrade restores this one.

CREATE OR REPLACE FUNCTION aio.ocr_tsvector(body text) RETURNS tsvector LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  n text := aio.normalize(coalesce(body, ''));
BEGIN
  RETURN setweight(to_tsvector('aio.zh', n), 'A') || setweight(aio.cjk_ngrams(n), 'D') || aio.code_tsvector(n);
END
$$;
