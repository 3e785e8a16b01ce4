"""Issue 20, item 8: without CUDA, launching several processes says that torchrun is used, and with what."""
import subprocess

import torch

from ggnet_d2.engine import launch as launch_module


def test_torchrun_use_is_printed_with_its_command(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: ran.append(cmd))
    launch_module.launch_hoi(print, 2, script_argv=["train_net.py", "--num-gpus", "2"])
    out = capsys.readouterr().out
    assert "no CUDA device, so 2 CPU processes (gloo backend) are started with PyTorch's torchrun" in out
    (cmd,) = ran
    assert cmd[1:3] == ["-m", "torch.distributed.run"] and "--nproc_per_node=2" in cmd and "--standalone" in cmd
    assert " ".join(cmd) in out  # the exact command
