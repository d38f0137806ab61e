// The --out directory, written all or nothing. Each file is staged under a temporary name
// beside its target ("report.html.tmp") and renamed into place by commit(); if anything
// fails before that, or the object goes away without commit(), the temporaries (and any
// directory this object created that is left empty) are removed, so a failed run leaves
// nothing partial under the real names.
//
// Not thread-safe. A rename that fails in the middle of commit() leaves the files renamed
// before it in place (rename is atomic per file, not per set) and reports which one failed.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace prescale::arena {

class StagedFiles {
 public:
  explicit StagedFiles(std::string dir);
  ~StagedFiles();
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  // Writes `content` to `name` + ".tmp" under the directory, creating the directory and
  // `name`'s parent ("timelines/x.html") if missing. Errors name the path.
  core::Status stage(const std::string& name, std::string_view content);

  // Renames every staged file into place, in staging order. After it, nothing is staged.
  core::Status commit();

  // Removes every staged temporary and the directories this object created, if empty.
  void abandon();

 private:
  std::filesystem::path dir_;
  std::vector<std::filesystem::path> targets_;  // staged, in order
  std::vector<std::filesystem::path> created_;  // directories made here, parents first
};

}  // namespace prescale::arena
