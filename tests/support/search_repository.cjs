// The patched server's own SearchRepository, connected to DB_URL through the server's Kysely configuration:
// what tests/support/search_sql_check.cjs and scripts/bench_hybrid_search.cjs call.
const path = require('node:path');

exports.openSearchRepository = (serverDir) => {
  require(path.join(serverDir, 'node_modules/reflect-metadata'));
  const { Kysely } = require(path.join(serverDir, 'node_modules/kysely'));
  const { getKyselyConfig } = require(path.join(serverDir, 'dist/utils/database'));
  const { SearchRepository } = require(path.join(serverDir, 'dist/repositories/search.repository'));
  const db = new Kysely(getKyselyConfig({ connectionType: 'url', url: process.env.DB_URL }));
  return { db, repo: new SearchRepository(db) };
};
