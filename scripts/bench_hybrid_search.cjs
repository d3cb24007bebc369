// Times the patched Immich server's own SearchRepository against a database (scripts/bench_hybrid_search.py):
//   DB_URL=... node bench_hybrid_search.cjs <built server dir> '<json: queries, embeddings, userIds, repeats>'
// prints, per method, every call's milliseconds: hybrid (CLIP + OCR fused, the first page of 100) and
// smart (CLIP alone, the same page) for comparison.
const path = require('node:path');
const { openSearchRepository } = require(path.join(__dirname, '..', 'tests', 'support', 'search_repository.cjs'));

(async () => {
  const { db, repo } = openSearchRepository(process.argv[2]);
  const input = JSON.parse(process.argv[3]);
  const page = { page: 1, size: 100 };
  const times = { hybrid: [], smart: [], ocr: [] };
  const counts = {};
  const time = async (name, call) => {
    const started = process.hrtime.bigint();
    const result = await call();
    times[name].push(Number(process.hrtime.bigint() - started) / 1e6);
    return result.items.length;
  };
  for (let round = 0; round < input.repeats; round++) {
    for (const [index, query] of input.queries.entries()) {
      const embedding = input.embeddings[index % input.embeddings.length];
      const base = { embedding, userIds: input.userIds };
      counts[query] = await time('hybrid', () =>
        repo.searchHybrid(page, { ...base, hybridQuery: query, clipWeight: 1, ocrWeight: 1 }),
      );
      await time('smart', () => repo.searchSmart(page, base));
      await time('ocr', () =>
        repo.searchMetadata(page, { ocr: query, ocrEngine: 'aio', userIds: input.userIds, orderDirection: 'desc' }),
      );
    }
  }
  console.log(JSON.stringify({ times, counts }));
  await db.destroy();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
