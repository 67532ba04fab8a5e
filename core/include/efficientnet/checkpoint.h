#pragma once
// Reading and writing checkpoint files: torch.save archives (zip and the pre-1.6 legacy format) and safetensors.
// Nothing here executes code from a file: pickles go through an allow-listed unpickler (pickle.h).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "efficientnet/limits.h"

namespace efficientnet {

// Tensors of a checkpoint by name, in the order the file lists them.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

enum class CheckpointFormat { TorchZip, TorchLegacy, Safetensors };

// Tells the format from the file's first bytes; throws CheckpointError when it is none of them.
CheckpointFormat detectCheckpointFormat(const std::string& path);

// Reads every tensor of a checkpoint of any supported format. A torch.save file may hold a state_dict directly or
// nest it under "state_dict", "model", "state_dict_ema" or "model_ema" (training checkpoints); the tensors come
// back under their keys in the state_dict. Throws CheckpointError naming the file and the problem.
NamedTensors readCheckpoint(const std::string& path);

NamedTensors readTorchSave(const std::string& path);   // zip or legacy torch.save
NamedTensors readSafetensors(const std::string& path);
// A safetensors file's __metadata__ (string to string; empty when it has none). Throws CheckpointError.
std::map<std::string, std::string> readSafetensorsMetadata(const std::string& path);

// Writes a safetensors file atomically (temporary file, then rename). Tensors are written contiguous, in their
// own dtype (float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool).
void writeSafetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace efficientnet
