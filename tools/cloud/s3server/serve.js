// Loopback S3 server for chatvault's tests and benchmarks. It checks AWS SigV4 signatures against
// one key pair given in the environment and revokes the well-known default pair, so a request
// signed with anything else fails.
//   CHATVAULT_S3_KEY_ID / CHATVAULT_S3_SECRET   the only accepted credentials
//   CHATVAULT_S3_RELAXED_SIGNATURES=1            accept mismatched signatures (benchmarks only)
//   node serve.js <data-dir> <bucket> <port-file>
// Listens on 127.0.0.1 on a port the kernel picks and writes that port to <port-file> once ready.
'use strict'
const fs = require('node:fs')
const S3rver = require('@20minutes/s3rver')
const AWSAccount = require('@20minutes/s3rver/lib/models/account')
const objectCtrl = require('@20minutes/s3rver/lib/controllers/object')
const S3Error = require('@20minutes/s3rver/lib/models/error')

// s3rver ignores `If-None-Match: *` on writes; AWS S3 honours it on PutObject and
// CompleteMultipartUpload (412 PreconditionFailed when the key exists). This shim adds that
// behaviour so the tests exercise the same semantics as the real service. Writes to one key are
// serialised so the check and the write cannot interleave with another request's.
const keyQueues = new Map()
function serialised(fn) {
  return async function (ctx) {
    const id = ctx.params.bucket + '/' + ctx.params.key
    const previous = keyQueues.get(id) || Promise.resolve()
    let release
    const mine = new Promise((resolve) => { release = resolve })
    const tail = previous.then(() => mine)
    keyQueues.set(id, tail)
    await previous
    try {
      if (ctx.headers['if-none-match'] === '*' &&
          await ctx.store.existsObject(ctx.params.bucket, ctx.params.key)) {
        throw new S3Error('PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' })
      }
      return await fn(ctx)
    } finally {
      release()
      if (keyQueues.get(id) === tail) keyQueues.delete(id)
    }
  }
}
objectCtrl.putObject = serialised(objectCtrl.putObject)
objectCtrl.completeMultipartUpload = serialised(objectCtrl.completeMultipartUpload)

const [dir, bucket, portFile] = process.argv.slice(2)
const keyId = process.env.CHATVAULT_S3_KEY_ID
const secret = process.env.CHATVAULT_S3_SECRET
if (!dir || !bucket || !portFile || !keyId || !secret) {
  console.error('usage: CHATVAULT_S3_KEY_ID=.. CHATVAULT_S3_SECRET=.. node serve.js <dir> <bucket> <port-file>')
  process.exit(2)
}
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
AWSAccount.DUMMY_ACCOUNT.createKeyPair(keyId, secret)
fs.mkdirSync(dir, { recursive: true })

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(process.env.CHATVAULT_S3_PORT || 0),
  directory: dir,
  silent: true,
  // Benchmarks only: restic's S3 client (minio-go) signs some requests in a way s3rver
  // canonicalises differently, so the restic comparison runs with verification relaxed.
  // Signatures are still computed and sent; tests never set this.
  allowMismatchedSignatures: process.env.CHATVAULT_S3_RELAXED_SIGNATURES === '1',
  configureBuckets: [{ name: bucket }],
})
server.run().then((addr) => {
  // Write then rename, so a reader never sees a half-written port number.
  fs.writeFileSync(portFile + '.tmp', String(addr.port))
  fs.renameSync(portFile + '.tmp', portFile)
}, (err) => {
  console.error('s3 test server failed to start: ' + err.message)
  process.exit(1)
})
const stop = () => server.close().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
