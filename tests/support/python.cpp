#include "support/python.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cktest {
namespace {

std::string temp_file(const std::string& contents) {
  char path[] = "/tmp/cachekit-test-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return {};
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  close(fd);
  return path;
}

}  // namespace

cachekit::Result<std::string> run_python(const std::string& script, const std::string& stdin_data) {
  const std::string script_path = temp_file(script);
  const std::string input_path = temp_file(stdin_data);
  const std::string err_path = temp_file("");
  if (script_path.empty() || input_path.empty() || err_path.empty()) {
    return cachekit::Error(cachekit::ErrorKind::unknown, "cannot create temporary files");
  }
  const std::string cmd = "/usr/bin/python3 " + script_path + " <" + input_path + " 2>" + err_path;
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return cachekit::Error(cachekit::ErrorKind::unknown, "popen failed");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  std::ifstream ef(err_path);
  std::ostringstream err;
  err << ef.rdbuf();
  std::remove(script_path.c_str());
  std::remove(input_path.c_str());
  std::remove(err_path.c_str());
  if (status != 0) {
    return cachekit::Error(cachekit::ErrorKind::unknown,
                           "/usr/bin/python3 failed (status " + std::to_string(status) + "): " + err.str() +
                               " (needs Debian's python3-msgpack: apt-get install python3-msgpack)");
  }
  return out;
}

}  // namespace cktest
