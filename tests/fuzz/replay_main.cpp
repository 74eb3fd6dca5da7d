// Runs a fuzz target over every file of the given corpus folders (no libFuzzer needed):
// the committed corpus, crashes included, is a regression test of `make test`.

#include <dirent.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    DIR* d = ::opendir(argv[i]);
    if (d == nullptr) {
      std::fprintf(stderr, "cannot open %s\n", argv[i]);
      return 1;
    }
    while (auto* ent = ::readdir(d)) {
      if (ent->d_name[0] == '.')
        continue;
      std::ifstream in(std::string(argv[i]) + "/" + ent->d_name, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      auto bytes = ss.str();
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++files;
    }
    ::closedir(d);
  }
  std::printf("%d inputs replayed, no crash\n", files);
  return files > 0 ? 0 : 1;
}
