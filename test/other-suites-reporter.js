// A jest reporter for the default suite: its last line says which suites
// `npm test` does not run and how to run them, so that a newcomer knows they
// exist (they need Debian daemons or PyQt6, which `.ci/run` installs).
class OtherSuitesReporter {
  onRunComplete() {
    process.stderr.write(
      '\nNot run by `npm test`: the proxy-daemon interop suite (`npm run test:interop`) and the Qt oracle suite (`npm run test:qt`); see README "Test suites".\n',
    );
  }
}
module.exports = OtherSuitesReporter;
