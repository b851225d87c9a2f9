using Retort.Engine.Kernels;
using Retort.Training.Kernels;

namespace Retort.Training.Model;

/// <summary>What every layer of one model shares during a pass: threads, kernels, scratch and the RoPE tables.</summary>
internal sealed class StudentContext(WorkerPool? pool, CausalAttention attention)
{
    public WorkerPool? Pool { get; } = pool;
    public MatMul MatMul { get; } = new(pool);
    public ParallelRange Range { get; } = new(pool);
    public CausalAttention Attention { get; } = attention;
    public LayerScratch Scratch { get; } = new();
    public float[] Cos { get; set; } = [];
    public float[] Sin { get; set; } = [];
    public int TablePositions { get; set; } = -1;
}
