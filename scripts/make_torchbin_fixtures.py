#!/usr/bin/python3
"""Fixtures for Lion's restricted PyTorch checkpoint reader (src/io/torchbin.ts, test/io/torchbin.test.ts).

Writes test/fixtures/torchbin/:
  state.pt          torch.save of a state dict (nn.Linear's, so it carries `_metadata`) plus fp16, bf16, fp64 and
                    int64 tensors, a 0-d tensor, an nn.Parameter, a transposed (non-contiguous) view and two views
                    sharing one storage at different offsets
  state.json        the expected values of every tensor of state.pt (shape and row-major values as float64)
  deflate.pt        state.pt re-zipped with deflate compression (PyTorch itself stores entries uncompressed)
  legacy.pt         the same dict in the legacy (non-zip) format, which Lion refuses
  evil.pt           a zip checkpoint whose pickle calls os.system; Lion must refuse it without running anything
  forged-*.pt       hand-written pickles in a torch zip: torch.storage._load_from_bytes (a global torch itself
                    can emit, refused) and an allowed global driven by NEWOBJ (an object-building opcode, refused)
  adapter/          the PEFT adapter of test/fixtures/golden/llama/adapter saved as adapter_model.bin
  llama/            the golden llama model saved as pytorch_model.bin (bf16, as in its safetensors file)

Run: /usr/bin/python3 scripts/make_torchbin_fixtures.py   (torch >= 1.13; deterministic)
"""
import collections
import json
import os
import shutil
import struct
import zipfile

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'torchbin')
GOLDEN = os.path.join(ROOT, 'test', 'fixtures', 'golden', 'llama')
torch.manual_seed(7)


def read_safetensors(path):
    """Minimal safetensors reader (F32/BF16/F16), so this script needs no extra package."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = collections.OrderedDict()
    types = {'F32': torch.float32, 'BF16': torch.bfloat16, 'F16': torch.float16}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, en = e['data_offsets']
        raw = bytearray(data[b:en])
        t = torch.frombuffer(raw, dtype=types[e['dtype']]).reshape(e['shape']).clone()
        out[name] = t
    return out


def state_dict():
    sd = torch.nn.Linear(3, 2).state_dict()  # OrderedDict with _metadata
    sd['half'] = torch.randn(4).half()
    sd['bf16'] = torch.randn(3, 2).bfloat16()
    sd['f64'] = torch.randn(2, 2, dtype=torch.float64)
    sd['position_ids'] = torch.arange(5).unsqueeze(0)
    sd['scalar'] = torch.tensor(3.5)
    sd['param'] = torch.nn.Parameter(torch.randn(2, 3))
    base = torch.randn(4, 3)
    sd['transposed'] = base.t()  # (3, 4), strides (1, 3)
    shared = torch.arange(12, dtype=torch.float32) / 4
    sd['shared_a'] = shared[2:6]
    sd['shared_b'] = shared[5:11].view(2, 3)
    sd['shared_t'] = shared[1:7].view(3, 2).t()  # offset and strides together
    return sd


class Evil:
    def __reduce__(self):
        return (os.system, ('echo lion-must-never-run-this',))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    sd = state_dict()
    torch.save(sd, os.path.join(OUT, 'state.pt'))
    expected = {k: {'shape': list(v.shape), 'values': v.detach().double().flatten().tolist()} for k, v in sd.items()}
    with open(os.path.join(OUT, 'state.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    with zipfile.ZipFile(os.path.join(OUT, 'state.pt')) as src, \
            zipfile.ZipFile(os.path.join(OUT, 'deflate.pt'), 'w', compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    torch.save(sd, os.path.join(OUT, 'legacy.pt'), _use_new_zipfile_serialization=False)
    torch.save({'weight': torch.zeros(2), 'x': Evil()}, os.path.join(OUT, 'evil.pt'))

    # hand-written pickles (protocol 2) inside a torch-style zip
    forged = {
        'forged-load-from-bytes.pt': b'\x80\x02}q\x00X\x01\x00\x00\x00wq\x01ctorch.storage\n_load_from_bytes\nq\x02C\x01\x00\x85q\x03Rq\x04s.',
        'forged-newobj.pt': b'\x80\x02ccollections\nOrderedDict\nq\x00)\x81q\x01.',
    }
    for name, pkl in forged.items():
        with zipfile.ZipFile(os.path.join(OUT, name), 'w') as z:
            z.writestr('archive/data.pkl', pkl)
            z.writestr('archive/version', '3\n')

    os.makedirs(os.path.join(OUT, 'adapter'))
    shutil.copy(os.path.join(GOLDEN, 'adapter', 'adapter_config.json'), os.path.join(OUT, 'adapter'))
    torch.save(read_safetensors(os.path.join(GOLDEN, 'adapter', 'adapter_model.safetensors')),
               os.path.join(OUT, 'adapter', 'adapter_model.bin'))
    os.makedirs(os.path.join(OUT, 'llama'))
    shutil.copy(os.path.join(GOLDEN, 'config.json'), os.path.join(OUT, 'llama'))
    torch.save(read_safetensors(os.path.join(GOLDEN, 'model.safetensors')), os.path.join(OUT, 'llama', 'pytorch_model.bin'))


if __name__ == '__main__':
    main()
