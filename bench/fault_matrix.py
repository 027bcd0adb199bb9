async def row_synapse(*a):
    raise NotImplementedError
