// s3rver.js: runs s3rver's command line (same arguments) with one fix for the tests.
//
// s3rver 3.7.1 (FilesystemStore.deleteObject) removes the directories a delete leaves
// empty. That races a PUT into the same "directory" at the same moment: the PUT has made
// the directory, the delete removes it, and the PUT's open() fails with ENOENT as an
// unhandled 'error' event that kills the whole server (seen in CI: two writer lanes, one
// writing an intent object while the other deleted its own, both under .../intent/).
// Here a delete only unlinks the object's files. Empty directories hold no keys, and
// s3rver computes listings (and common prefixes) from the objects it finds, so nothing an
// S3 client sees changes.
'use strict';

const fs = require('fs/promises');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

FilesystemStore.prototype.deleteObject = async function deleteObject(bucket, key) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map(kind =>
      fs.unlink(this.getResourcePath(bucket, key, kind)).catch(err => {
        if (err.code !== 'ENOENT') throw err;
      }),
    ),
  );
};

require('s3rver/bin/s3rver.js');
