-- aio.ocr_build and aio.ocr_build_fingerprint(): revision 0009.
-- The current definition (head).
--
-- Which build made this database's search index. The documents and lists hold what this PostgreSQL build's
-- text search, zhparser and floating point made of the OCR text; restored into another build (a backup
-- moved to another image or architecture) they may differ from what this build makes, and searches would
-- then miss or keep photos. The fingerprint is what this build makes of a few fixed lines (their index form
-- and list rows, ranks to the last bit); `immich-sidecar db upgrade` (the compose stack's aio-migrate, at
-- every start) compares it with the one recorded, and where they differ, or none is recorded, checks every
-- photo and rebuilds those that differ (aio.check_ocr, aio.repair_ocr), then records this build's.
CREATE TABLE aio.ocr_build (
  fingerprint text NOT NULL,
  checked_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION aio.ocr_build_fingerprint() RETURNS text LANGUAGE sql STABLE
AS $$
  SELECT md5(string_agg(
    t.body || E'\t' || aio.ocr_tsvector(t.body)::text || E'\t'
    || (SELECT string_agg(r.word || ' ' || r.is_word || ' ' || r.rank, ',' ORDER BY r.word COLLATE "C")
        FROM aio.ocr_word_rows(aio.ocr_tsvector(t.body), lower(t.body) = aio.normalize(t.body)) AS r),
    E'\n' ORDER BY t.n))
  FROM unnest(ARRAY[
    '上海增值税专用发票 No.12345678 开票日期 2024年3月15日',
    '復旦大學附屬華山醫院 門診收費收據',
    'ＳＦ１２３４５６７８９０ 顺丰速运 Century Park',
    '请保持安静 拿铁 ¥45.00 Wi-Fi 密码',
    'ショップ 渋谷店 営業時間',
    E'北京市朝阳区建国路88号\n上海南站 出口'
  ]) WITH ORDINALITY AS t(body, n)
$$;
