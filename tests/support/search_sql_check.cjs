// The patched server's SearchRepository against a real database (tests/test_patches.py):
//   DB_URL=... node search_sql_check.cjs <built server dir> '<json: ocr, userIds, embedding>'
// prints which OCR engine it found and the asset ids each search returns, best first.
const { openSearchRepository } = require('./search_repository.cjs');
(async () => {
  const { db, repo } = openSearchRepository(process.argv[2]);
  const input = JSON.parse(process.argv[3]);
  const out = {};
  out.engine = await repo.getOcrSearchEngine();
  const ids = (r) => r.items.map((a) => a.id);
  out.metadata = ids(await repo.searchMetadata({ page: 1, size: 10 }, { ocr: input.ocr, ocrEngine: out.engine, userIds: input.userIds, orderDirection: 'desc' }));
  out.stats = (await repo.searchStatistics({ ocr: input.ocr, ocrEngine: out.engine, userIds: input.userIds })).total;
  if (repo.searchMetadataV3) {
    // Immich 3's second OCR filter path: the branch filter model ({ filter: { ocr: { matches } } }, or-branches too).
    const v3 = { filter: { or: [{ ocr: { matches: input.ocr } }] }, ocrEngine: out.engine, userIds: input.userIds };
    out.filterV3 = (await repo.searchMetadataV3({ size: 10 }, v3)).map((a) => a.id).sort();
    out.statsV3 = (await repo.searchStatisticsV3(v3)).total;
  }
  if (out.engine === 'aio') {
    if (repo.getOcrMatches) {
      // v3.1.0: the matched lines as data (aio.ocr_matches), the HTML form escaped, the matched boxes of the first asset
      const { matches, snippets } = await repo.getOcrMatches(out.metadata, input.ocr);
      Object.assign(out, { matches, snippets, boxes: await repo.getOcrBoxMatches(out.metadata[0], input.ocr) });
    } else {
      out.snippets = await repo.getOcrSnippets(out.metadata, input.ocr);
    }
    const hybrid = await repo.searchHybrid({ page: 1, size: 10 }, { embedding: input.embedding, hybridQuery: input.ocr, clipWeight: 1, ocrWeight: 1, userIds: input.userIds, withExif: true }); // as the web asks (the lists must still hold ids alone)
    out.hybrid = ids(hybrid);
    out.matchedBy = hybrid.matchedBy;
  }
  console.log(JSON.stringify(out));
  await db.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
